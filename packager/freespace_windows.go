//go:build windows

package packager

import (
	"syscall"
	"unsafe"

	"drmpack/packager/errcode"
)

var getDiskFreeSpaceEx = syscall.NewLazyDLL("kernel32.dll").NewProc("GetDiskFreeSpaceExW")

// checkFreeSpace applies the manual's rule: the output volume needs at least twice the input's
// size free before a job starts (staging plus the finished copy).
func checkFreeSpace(dir string, inputSize int64) error {
	p, err := syscall.UTF16PtrFromString(dir)
	if err != nil {
		return errcode.Wrap(errcode.CreateNoSpace, err, "read free space of "+dir)
	}
	var free uint64
	if r, _, callErr := getDiskFreeSpaceEx.Call(uintptr(unsafe.Pointer(p)), uintptr(unsafe.Pointer(&free)), 0, 0); r == 0 {
		return errcode.Wrap(errcode.CreateNoSpace, callErr, "read free space of "+dir)
	}
	if int64(free) < 2*inputSize {
		return errcode.New(errcode.CreateNoSpace, "%s has %d bytes free; packaging a %d-byte input needs at least %d",
			dir, free, inputSize, 2*inputSize)
	}
	return nil
}
