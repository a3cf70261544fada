// Command drmpack-gui (`go run .`) is the packaging workstation's window. The window itself lives
// in package ui, which never creates the Fyne app, so it can be tested headless; this file only
// wires the real app, the settings and the log file to it.
package main

import (
	"os"

	"fyne.io/fyne/v2"
	fyneapp "fyne.io/fyne/v2/app"

	"drmpack/app"
	"drmpack/assets"
	"drmpack/packager"
	"drmpack/ui"
)

// appID matches FyneApp.toml; Fyne keys its preferences and storage on it.
const appID = "io.github.drmpack"

func main() {
	a := fyneapp.NewWithID(appID)
	a.SetIcon(fyne.NewStaticResource("icon.png", assets.Icon))
	session := app.OpenGUI()
	defer session.Close()
	deps := ui.Deps{
		Options: func(c ui.Choices) (packager.Options, int, error) {
			return session.Options(app.GUIChoices{OutDir: c.OutDir, DRM: c.DRM, Key: c.Key, MultiKey: c.MultiKey})
		},
		LogLine:        session.Log.Line,
		OutDir:         session.Settings().OutDir,
		RememberOutDir: session.RememberOutDir,
		Warnings:       session.Warnings,
		SettingsFields: session.SettingsFields,
		SaveSettings:   session.SaveSettings,
		About:          session.About,
		Preview:        session.Preview,
	}
	w := ui.NewMainWindow(a, deps)
	// Files given on the command line (a file manager's "Open with") start in the list.
	if len(os.Args) > 1 {
		w.AddFiles(os.Args[1:])
	}
	w.Window.ShowAndRun()
}
