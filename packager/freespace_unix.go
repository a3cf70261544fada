//go:build unix

package packager

import (
	"syscall"

	"drmpack/packager/errcode"
)

// checkFreeSpace applies the manual's rule: the output volume needs at least twice the input's
// size free before a job starts (staging plus the finished copy).
func checkFreeSpace(dir string, inputSize int64) error {
	var st syscall.Statfs_t
	if err := syscall.Statfs(dir, &st); err != nil {
		return errcode.Wrap(errcode.CreateNoSpace, err, "read free space of "+dir)
	}
	free := int64(st.Bavail) * int64(st.Bsize)
	if free < 2*inputSize {
		return errcode.New(errcode.CreateNoSpace, "%s has %d bytes free; packaging a %d-byte input needs at least %d",
			dir, free, inputSize, 2*inputSize)
	}
	return nil
}
