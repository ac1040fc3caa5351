/**
 * Datainsight's JupyterLab extension: the sidebar panel (the pipeline of
 * the notebook in focus, its runs) and the cells' pipeline chips.
 */
import { ILayoutRestorer, JupyterFrontEnd, JupyterFrontEndPlugin } from '@jupyterlab/application';
import { ICommandPalette } from '@jupyterlab/apputils';
import { PageConfig, URLExt } from '@jupyterlab/coreutils';
import { INotebookTracker } from '@jupyterlab/notebook';
import { IRenderMimeRegistry } from '@jupyterlab/rendermime';
import { ServerConnection } from '@jupyterlab/services';
import { LabIcon } from '@jupyterlab/ui-components';

import iconSvg from '../style/icon.svg';
import { PanelController } from './controller';
import { DatainsightPanel } from './panel';
import { SidecarClient } from './rpc/client';

export const datainsightIcon = new LabIcon({ name: 'datainsight:pipeline', svgstr: iconSvg });

/** Commands the extension adds. */
export const CommandIDs = {
  open: 'datainsight:open',
  editTags: 'datainsight:edit-cell-tags',
  run: 'datainsight:run'
};

/** Where the sidecar's WebSocket is, behind the Jupyter server. */
function sidecarUrls(): { ws: string; status: string } {
  const settings = ServerConnection.makeSettings();
  let ws = URLExt.join(settings.wsUrl, 'datainsight', 'ws');
  const token = PageConfig.getToken();
  if (token) {
    ws += `?token=${encodeURIComponent(token)}`;
  }
  return { ws, status: URLExt.join(settings.baseUrl, 'datainsight', 'status') };
}

/** Why the sidecar is down, from the server extension's status. */
async function diagnose(statusUrl: string): Promise<string> {
  const settings = ServerConnection.makeSettings();
  let res: Response;
  try {
    res = await ServerConnection.makeRequest(statusUrl, {}, settings);
  } catch {
    return 'the Jupyter server does not answer';
  }
  if (res.status === 404) {
    return 'the Jupyter server has no Datainsight extension (enable datainsight in jpserver_extensions)';
  }
  if (!res.ok) {
    return `the Jupyter server answered ${res.status} ${res.statusText}`;
  }
  const st = (await res.json()) as { running: boolean; error: string | null };
  return st.running ? 'its WebSocket closed' : `it is not running: ${st.error ?? 'starting'}`;
}

const plugin: JupyterFrontEndPlugin<void> = {
  id: '@datainsight/jupyterlab:panel',
  description: 'The pipeline of the notebook in focus, live, with its runs; pipeline chips on the cells.',
  autoStart: true,
  requires: [INotebookTracker, IRenderMimeRegistry],
  optional: [ILayoutRestorer, ICommandPalette],
  activate: (
    app: JupyterFrontEnd,
    tracker: INotebookTracker,
    rendermime: IRenderMimeRegistry,
    restorer: ILayoutRestorer | null,
    palette: ICommandPalette | null
  ) => {
    const urls = sidecarUrls();
    const client = new SidecarClient({ url: urls.ws, diagnose: () => diagnose(urls.status) });
    const controller = new PanelController(client, tracker, cell => {
      // A chip was clicked: that cell's tags, in the panel.
      const nb = tracker.currentWidget?.content;
      if (nb) {
        const i = nb.widgets.indexOf(cell);
        if (i >= 0) {
          nb.activeCellIndex = i;
        }
      }
      void app.commands.execute(CommandIDs.editTags);
    });
    const panel = new DatainsightPanel({
      controller,
      rendermime,
      addToMainArea: w => app.shell.add(w, 'main', { mode: 'split-right' })
    });
    panel.id = 'datainsight-panel';
    panel.title.icon = datainsightIcon;
    panel.title.caption = 'Datainsight pipeline';
    app.shell.add(panel, 'left', { rank: 250 });
    restorer?.add(panel, 'datainsight-panel');

    app.commands.addCommand(CommandIDs.open, {
      label: 'Show the Pipeline Panel',
      icon: datainsightIcon,
      execute: () => app.shell.activateById(panel.id)
    });
    app.commands.addCommand(CommandIDs.editTags, {
      label: 'Edit the Cell\'s Pipeline Tags',
      isEnabled: () => tracker.activeCell?.model.type === 'code',
      execute: () => {
        app.shell.activateById(panel.id);
        panel.show_('pipeline', 'tags');
        // Focus the first field of the tag editor once it is drawn.
        requestAnimationFrame(() => {
          const el = panel.node.querySelector<HTMLElement>('.di-TagEditor select, .di-TagEditor input');
          el?.focus();
        });
      }
    });
    app.commands.addCommand(CommandIDs.run, {
      label: 'Run the Notebook as a Pipeline',
      execute: () => {
        app.shell.activateById(panel.id);
        panel.show_('pipeline');
        requestAnimationFrame(() => panel.node.querySelector<HTMLButtonElement>('.di-RunButton')?.focus());
      }
    });
    app.commands.addKeyBinding({ command: CommandIDs.editTags, keys: ['Alt Shift T'], selector: '.jp-Notebook' });
    app.commands.addKeyBinding({ command: CommandIDs.open, keys: ['Alt Shift D'], selector: 'body' });
    for (const command of Object.values(CommandIDs)) {
      palette?.addItem({ command, category: 'Datainsight' });
    }
    // The panel opens with the first notebook opened; after that the user
    // decides what the sidebar shows.
    let opened = false;
    tracker.widgetAdded.connect(() => {
      if (!opened) {
        opened = true;
        app.shell.activateById(panel.id);
      }
    });
  }
};

export default [plugin];
