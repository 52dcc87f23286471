// Builds plotly-vrp.min.js: plotly.js with only the traces in traces.js, with the esbuild settings plotly.js uses for
// its own bundles (esbuild-config.js in the plotly.js package). The full bundle is 4.8 MB and takes a cold browser
// about a second to evaluate; this one is about 3 MB, most of it the map library (docs/PERFORMANCE.md).
const fs = require('fs');
const path = require('path');
const zlib = require('zlib');
const esbuild = require('esbuild');
const { environmentPlugin } = require('esbuild-plugin-environment');
const { glsl } = require('esbuild-plugin-glsl');
const InlineCSSPlugin = require('esbuild-plugin-inline-css');

const traces = require('./traces.js');
const version = require('plotly.js/package.json').version;
const out = process.argv[2] || '.';

const entry = [
  "var Plotly = require('plotly.js/lib/core');",
  `Plotly.register([${traces.map((t) => `require('plotly.js/lib/${t}')`).join(', ')}]);`,
  `Plotly.vrpBundle = ${JSON.stringify({ version, traces })};`,
  'module.exports = Plotly;',
].join('\n');

// Everything is written under temporary names and renamed into place, the manifest last: make's target is the
// manifest, so a build that fails part-way leaves no mixture of old and new files that looks finished.
const file = path.join(out, 'plotly-vrp.min.js');
const tmp = (name) => `${name}.${process.pid}.tmp`;

esbuild
  .build({
    stdin: { contents: entry, resolveDir: __dirname, sourcefile: 'vrp-plotly-entry.js' },
    outfile: tmp(file),
    banner: { js: `/* plotly.js v${version}, partial bundle for the VRP dashboard: scatter, ${traces.join(', ')} */` },
    format: 'iife',
    globalName: 'Plotly',
    bundle: true,
    minify: true,
    sourcemap: false,
    legalComments: 'eof',
    plugins: [InlineCSSPlugin(), glsl({ minify: true }), environmentPlugin({ NODE_DEBUG: false })],
    alias: { regl: '@plotly/regl', stream: 'stream-browserify' },
    define: { global: 'window', 'define.amd': 'false' },
    target: 'es2016',
    logLevel: 'warning',
  })
  .then(() => {
    const manifest = path.join(out, 'plotly-vrp.json');
    fs.writeFileSync(tmp(`${file}.gz`), zlib.gzipSync(fs.readFileSync(tmp(file)), { level: 9 }));
    fs.writeFileSync(tmp(manifest), JSON.stringify({ version, traces }) + '\n');
    for (const name of [file, `${file}.gz`, manifest]) fs.renameSync(tmp(name), name);
  })
  .catch((error) => {
    console.error(error);
    process.exit(1);
  });
