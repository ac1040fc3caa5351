// Bundles the JupyterLab app (index.js) into build/static, and copies the
// settings schemas and the themes that jupyterlab_server serves beside it.
// The app is a module federation host, as JupyterLab is: it shares the
// packages the prebuilt extension takes from its host (scripts/core.js).
const path = require('path');
const fs = require('fs');
const rspack = require('@rspack/core');
const extensions = require('./extensions.js');
const core = require('../scripts/core.js');

const here = __dirname;
const build = path.join(here, 'build');
const nodeModules = path.join(here, '..', 'node_modules');

/** Copies each extension's settings schemas, and ours, to build/schemas. */
function copySchemas() {
  const out = path.join(build, 'schemas');
  fs.rmSync(out, { recursive: true, force: true });
  const pkgs = extensions.map(name => [name, path.join(nodeModules, name)]);
  pkgs.push(['@datainsight/jupyterlab', path.join(here, '..')]);
  for (const [name, dir] of pkgs) {
    const meta = JSON.parse(fs.readFileSync(path.join(dir, 'package.json'), 'utf8'));
    const schemaDir = meta.jupyterlab && meta.jupyterlab.schemaDir;
    if (!schemaDir || !fs.existsSync(path.join(dir, schemaDir))) {
      continue;
    }
    const dest = path.join(out, name);
    fs.mkdirSync(dest, { recursive: true });
    for (const f of fs.readdirSync(path.join(dir, schemaDir))) {
      if (f.endsWith('.json')) {
        fs.copyFileSync(path.join(dir, schemaDir, f), path.join(dest, f));
      }
    }
    // jupyterlab_server reads the version from the schemas' package.json.
    fs.writeFileSync(path.join(dest, 'package.json.orig'), JSON.stringify({ name, version: meta.version }));
  }
}

/** Copies each theme's CSS to build/themes/<package>/index.css, where the theme manager loads it. */
function copyThemes() {
  const out = path.join(build, 'themes');
  fs.rmSync(out, { recursive: true, force: true });
  for (const name of extensions) {
    const dir = path.join(nodeModules, name);
    const meta = JSON.parse(fs.readFileSync(path.join(dir, 'package.json'), 'utf8'));
    const themePath = meta.jupyterlab && meta.jupyterlab.themePath;
    if (!themePath) {
      continue;
    }
    const src = path.dirname(path.join(dir, themePath));
    const dest = path.join(out, name);
    fs.mkdirSync(dest, { recursive: true });
    for (const f of fs.readdirSync(src)) {
      fs.copyFileSync(path.join(src, f), path.join(dest, f === path.basename(themePath) ? 'index.css' : f));
    }
  }
}

class CopyLabAssets {
  apply(compiler) {
    compiler.hooks.beforeRun.tap('CopyLabAssets', () => {
      copySchemas();
      copyThemes();
    });
  }
}

module.exports = {
  mode: process.env.NODE_ENV === 'development' ? 'development' : 'production',
  context: here,
  entry: { bundle: './index.js' },
  output: {
    path: path.join(build, 'static'),
    filename: '[name].js',
    chunkFilename: '[name].[contenthash:8].js',
    publicPath: 'auto',
    clean: true
  },
  devtool: false,
  performance: { hints: false },
  resolve: {
    extensions: ['.js', '.mjs'],
    modules: ['node_modules', nodeModules],
    fallback: { path: false, fs: false, crypto: false }
  },
  module: {
    rules: [
      { test: /\.m?js/, resolve: { fullySpecified: false } },
      { test: /\.css$/, use: [require.resolve('style-loader'), require.resolve('css-loader')], type: 'javascript/auto' },
      // Icons imported by code are SVG strings; those CSS points at are files.
      { test: /\.svg(\?v=\d+\.\d+\.\d+)?$/, issuer: /\.css$/, type: 'asset/resource' },
      { test: /\.svg(\?v=\d+\.\d+\.\d+)?$/, issuer: /\.[cm]?[jt]sx?$/, type: 'asset/source' },
      { test: /\.(png|jpe?g|gif|woff2?|ttf|eot|otf)(\?.*)?$/, type: 'asset/resource' },
      { test: /\.(txt|md)$/, type: 'asset/source' }
    ]
  },
  plugins: [
    new CopyLabAssets(),
    // Webpack's own container protocol (not module federation 2): the
    // prebuilt extension is built by JupyterLab's builder with webpack.
    new rspack.container.ModuleFederationPluginV1({
      name: 'datainsight_lab',
      shared: Object.fromEntries(
        Object.entries(core.sharedSingletons()).map(([name, version]) => [
          name,
          { singleton: true, version, requiredVersion: `^${version}` }
        ])
      )
    })
  ]
};
