// The JupyterLab app the tests and the demo run: JupyterLab's extensions
// from npm, with Datainsight's panel either as a source plugin or, when
// jupyterlab_server lists it among the prebuilt (federated) extensions, as
// the prebuilt extension a user's JupyterLab loads. The list is in
// extensions.js; each require is spelled out for the bundler.
import { PageConfig, URLExt } from '@jupyterlab/coreutils';

import './style.js';

const PANEL = '@datainsight/jupyterlab';

function loadScript(url) {
  return new Promise((resolve, reject) => {
    const s = document.createElement('script');
    s.src = url;
    s.async = true;
    s.onload = () => resolve();
    s.onerror = () => reject(new Error(`cannot load ${url}`));
    document.head.appendChild(s);
  });
}

/**
 * Loads the prebuilt extensions the page config lists, the way JupyterLab
 * does: each remote entry is a module federation container that takes
 * this app's shared packages (the share scope) and gives back its plugins
 * and its style. One that fails is reported and left out; the app starts
 * without it.
 */
async function loadFederated() {
  const listed = JSON.parse(PageConfig.getOption('federated_extensions') || '[]');
  if (!listed.length) {
    return [];
  }
  const base = PageConfig.getOption('fullLabextensionsUrl');
  await __webpack_init_sharing__('default');
  const results = await Promise.allSettled(
    listed.map(async ext => {
      await loadScript(URLExt.join(base, ext.name, ext.load));
      const container = window._JUPYTERLAB && window._JUPYTERLAB[ext.name];
      if (!container) {
        throw new Error(`${ext.load} defines no container named ${ext.name}`);
      }
      await container.init(__webpack_share_scopes__.default);
      const load = async module => (await container.get(module))();
      if (ext.style) {
        await load(ext.style);
      }
      if (ext.mimeExtension) {
        console.warn(`datainsight lab: ${ext.name}: mime renderer extensions are not loaded by this app`);
      }
      return { name: ext.name, plugins: ext.extension ? await load(ext.extension) : [] };
    })
  );
  const loaded = [];
  results.forEach((r, i) => {
    if (r.status === 'fulfilled') {
      loaded.push(r.value);
    } else {
      console.error(`datainsight lab: prebuilt extension ${listed[i].name} failed to load`, r.reason);
    }
  });
  return loaded;
}

export async function main() {
  const federated = await loadFederated();
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
    require('@jupyterlab/ui-components-extension')
  ];
  // The panel: prebuilt when listed (with its own style), else from source.
  if (federated.some(f => f.name === PANEL)) {
    document.body.dataset.datainsightPanel = 'prebuilt';
  } else {
    await import('../style/index.js');
    mods.push(await import('../lib/index.js'));
    document.body.dataset.datainsightPanel = 'source';
  }
  mods.push(...federated.map(f => f.plugins));
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
