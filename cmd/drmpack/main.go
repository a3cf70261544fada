// Command drmpack is the packaging workstation's command line: the same engine as the GUI,
// built without cgo so it runs on servers and in batch systems.
package main

import (
	"os"

	"drmpack/app"
)

func main() {
	os.Exit(app.CLI(os.Args[1:], os.Stdout, os.Stderr))
}
