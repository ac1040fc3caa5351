// The JupyterLab extensions the app is made of: JupyterLab's own, from npm,
// and Datainsight's panel (app/main.js adds it). rspack.config.js copies the
// schemas of the same packages, so that their settings load.
module.exports = [
  '@jupyterlab/application-extension',
  '@jupyterlab/apputils-extension',
  '@jupyterlab/celltags-extension',
  '@jupyterlab/codemirror-extension',
  '@jupyterlab/completer-extension',
  '@jupyterlab/console-extension',
  '@jupyterlab/docmanager-extension',
  '@jupyterlab/documentsearch-extension',
  '@jupyterlab/filebrowser-extension',
  '@jupyterlab/fileeditor-extension',
  '@jupyterlab/launcher-extension',
  '@jupyterlab/mainmenu-extension',
  '@jupyterlab/markedparser-extension',
  '@jupyterlab/metadataform-extension',
  '@jupyterlab/notebook-extension',
  '@jupyterlab/rendermime-extension',
  '@jupyterlab/running-extension',
  '@jupyterlab/shortcuts-extension',
  '@jupyterlab/statusbar-extension',
  '@jupyterlab/theme-dark-extension',
  '@jupyterlab/theme-light-extension',
  '@jupyterlab/tooltip-extension',
  '@jupyterlab/translation-extension',
  '@jupyterlab/ui-components-extension'
];
