package app

import (
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"gopkg.in/natefinch/lumberjack.v2"

	"drmpack/settings"
)

// LogName is the rotating log file's name inside settings.LogDir.
const LogName = "drmpack.log"

// LogFile appends timestamped lines to the rotating log file. A nil *LogFile discards lines, so
// callers keep working when the log folder is unusable.
type LogFile struct {
	mu sync.Mutex
	w  *lumberjack.Logger
}

// OpenLog opens the log file in the user's log folder (10 MB per file, 5 old files kept).
func OpenLog() (*LogFile, error) {
	dir, err := settings.LogDir()
	if err != nil {
		return nil, err
	}
	w := &lumberjack.Logger{Filename: filepath.Join(dir, LogName), MaxSize: 10, MaxBackups: 5}
	// lumberjack creates the folder and file lazily; write once now so a bad folder is reported.
	if _, err := fmt.Fprintf(w, "%s drmpack %s started\n", time.Now().Format("2006-01-02 15:04:05"), version()); err != nil {
		return nil, err
	}
	return &LogFile{w: w}, nil
}

// Line writes one event line (multi-line blocks keep their lines, each prefixed by the time).
func (l *LogFile) Line(s string) {
	if l == nil {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	stamp := time.Now().Format("2006-01-02 15:04:05")
	for _, line := range strings.Split(strings.TrimRight(s, "\n"), "\n") {
		fmt.Fprintf(l.w, "%s %s\n", stamp, line)
	}
}

// Close closes the file.
func (l *LogFile) Close() error {
	if l == nil {
		return nil
	}
	return l.w.Close()
}
