// The app's entry: everything else loads behind this one dynamic import,
// because JupyterLab's packages are shared with prebuilt extensions
// (module federation) and shared modules can only be consumed once the
// share scope is set up, never in the entry chunk itself.
window.addEventListener('load', () => {
  import('./main.js')
    .then(m => m.main())
    .catch(err => {
      console.error('datainsight lab: start failed', err);
      document.body.dataset.datainsightLab = 'failed';
      const p = document.createElement('pre');
      p.textContent = 'The lab could not start: ' + (err && err.message ? err.message : String(err));
      document.body.appendChild(p);
    });
});
