// Unit tests: jest with JupyterLab's own test setup (@jupyterlab/testing),
// against real JupyterLab models. Exit code only: no reporter writes files.
const base = require('@jupyterlab/testing/lib/jest-config')(__dirname);

// Packages published as ES modules, which babel turns into CommonJS for jest.
const esModules = [
  '@codemirror',
  '@jupyter/',
  '@jupyterlab/',
  '@marijn',
  '@microsoft',
  'color',
  'exenv-es6',
  'lib0',
  'marked',
  'nanoid',
  'vscode-ws-jsonrpc',
  'y-protocols',
  'y-websocket',
  'yjs'
].join('|');

module.exports = {
  ...base,
  reporters: ['default'],
  setupFiles: [...base.setupFiles, '<rootDir>/test/setup.js'],
  testRegex: '/test/.*\\.spec\\.tsx?$',
  testPathIgnorePatterns: ['/lib/', '/node_modules/', '/e2e/'],
  transformIgnorePatterns: [`/node_modules/(?!${esModules}).+`],
  transform: {
    ...base.transform,
    '^.+\\.tsx?$': ['ts-jest/legacy', { tsconfig: './tsconfig.test.json' }]
  }
};
