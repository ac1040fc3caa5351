// The packages the panel shares with the JupyterLab that loads it: the ones
// JupyterLab provides as singletons (its own packages, Lumino, CodeMirror,
// React). The prebuilt extension must use the host's copy of each and never
// bundle its own (two copies of @lumino/widgets or @codemirror/state break
// at run time), and the lab app must provide each to extensions it loads.
const fs = require('fs');
const path = require('path');

const frontend = path.join(__dirname, '..');
const nodeModules = path.join(frontend, 'node_modules');

const SINGLETON = [/^@jupyterlab\//, /^@jupyter\//, /^@lumino\//, /^@codemirror\//, /^@lezer\//, /^react$/, /^react-dom$/, /^yjs$/];

function isSingleton(name) {
  return SINGLETON.some(re => re.test(name));
}

function readJSON(file) {
  return JSON.parse(fs.readFileSync(file, 'utf8'));
}

/** The panel's package.json. */
function panelPackage() {
  return readJSON(path.join(frontend, 'package.json'));
}

/** The installed version of a package. */
function installedVersion(name) {
  return readJSON(path.join(nodeModules, name, 'package.json')).version;
}

/**
 * The panel's shared singletons, each with its installed version: the
 * panel's dependencies that JupyterLab provides.
 */
function sharedSingletons() {
  const out = {};
  for (const name of Object.keys(panelPackage().dependencies).filter(isSingleton).sort()) {
    out[name] = installedVersion(name);
  }
  return out;
}

/** Bare module names a compiled file imports. */
function bareImports(code) {
  const names = new Set();
  const re = /(?:\bfrom\s*|\bimport\s*\(?\s*|\brequire\s*\(\s*)['"]([^'"./][^'"]*)['"]/g;
  for (const m of code.matchAll(re)) {
    const parts = m[1].split('/');
    names.add(m[1].startsWith('@') ? parts.slice(0, 2).join('/') : parts[0]);
  }
  return names;
}

/**
 * The singletons the compiled panel (lib/) imports without declaring them
 * as dependencies: each would be bundled into the prebuilt extension as a
 * second copy, so the build refuses them.
 */
function undeclaredSingletons(libDir = path.join(frontend, 'lib')) {
  const declared = new Set(Object.keys(panelPackage().dependencies));
  const missing = new Map();
  const walk = dir => {
    for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
      const p = path.join(dir, entry.name);
      if (entry.isDirectory()) {
        walk(p);
      } else if (entry.name.endsWith('.js')) {
        for (const name of bareImports(fs.readFileSync(p, 'utf8'))) {
          if (isSingleton(name) && !declared.has(name)) {
            missing.set(name, path.relative(frontend, p));
          }
        }
      }
    }
  };
  walk(libDir);
  return missing;
}

/**
 * The core metadata JupyterLab's extension builder reads (JupyterLab keeps
 * it in its own build folder, unpublished): the shared packages with the
 * versions they may have, and which of them are singletons.
 */
function coreMetadata() {
  const shared = sharedSingletons();
  const dependencies = {};
  for (const [name, version] of Object.entries(shared)) {
    // Any later release of the same major: the host's copy is used.
    dependencies[name] = `^${version}`;
  }
  return {
    name: '@datainsight/jupyterlab-core-metadata',
    private: true,
    dependencies,
    jupyterlab: { singletonPackages: Object.keys(shared) }
  };
}

module.exports = { bareImports, coreMetadata, sharedSingletons, undeclaredSingletons };
