// The JupyterLab app the tests and the demo run: JupyterLab's extensions
// from npm with Datainsight's panel loaded as a source plugin. The list is
// in extensions.js; each require is spelled out for the bundler.
import { PageConfig } from '@jupyterlab/coreutils';

import './style.js';

async function main() {
  const { JupyterLab } = await import('@jupyterlab/application');
  const mods = [
    require('@jupyterlab/application-extension'),
    require('@jupyterlab/apputils-extension'),
    require('@jupyterlab/celltags-extension'),
    require('@jupyterlab/codemirror-extension'),
    require('@jupyterlab/completer-extension'),
    require('@jupyterlab/console-extension'),
    require('@jupyterlab/docmanager-extension'),
    require('@jupyterlab/documentsearch-extension'),
    require('@jupyterlab/filebrowser-extension'),
    require('@jupyterlab/fileeditor-extension'),
    require('@jupyterlab/launcher-extension'),
    require('@jupyterlab/mainmenu-extension'),
    require('@jupyterlab/markedparser-extension'),
    require('@jupyterlab/metadataform-extension'),
    require('@jupyterlab/notebook-extension'),
    require('@jupyterlab/rendermime-extension'),
    require('@jupyterlab/running-extension'),
    require('@jupyterlab/shortcuts-extension'),
    require('@jupyterlab/statusbar-extension'),
    require('@jupyterlab/theme-dark-extension'),
    require('@jupyterlab/theme-light-extension'),
    require('@jupyterlab/tooltip-extension'),
    require('@jupyterlab/translation-extension'),
    require('@jupyterlab/ui-components-extension'),
    require('../lib/index.js')
  ];
  // Plugins left out: the news prompt (this app is offline), those needing
  // packages the app does not include (language servers, table of
  // contents), and any the page config disables.
  const left = [
    '@jupyterlab/apputils-extension:announcements',
    '@jupyterlab/notebook-extension:language-server',
    '@jupyterlab/fileeditor-extension:language-server',
    '@jupyterlab/notebook-extension:toc'
  ];
  const skip = id => left.includes(id) || PageConfig.Extension.isDisabled(id);
  const plugins = [];
  for (const mod of mods) {
    const exported = mod.default ?? mod;
    for (const p of Array.isArray(exported) ? exported : [exported]) {
      if (!skip(p.id)) {
        plugins.push(p);
      }
    }
  }
  const lab = new JupyterLab();
  lab.registerPlugins(plugins);
  await lab.start();
  await lab.restored;
  // For the browser tests: the app, once every plugin is in.
  window.jupyterapp = lab;
  document.body.dataset.datainsightLab = 'ready';
}

window.addEventListener('load', () => {
  main().catch(err => {
    console.error('datainsight lab: start failed', err);
    document.body.dataset.datainsightLab = 'failed';
    const p = document.createElement('pre');
    p.textContent = 'The lab could not start: ' + (err && err.message ? err.message : String(err));
    document.body.appendChild(p);
  });
});
