module drmpack

go 1.26

require (
	github.com/Eyevinn/mp4ff v0.56.0
	gopkg.in/natefinch/lumberjack.v2 v2.2.1
)
