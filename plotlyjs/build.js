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

esbuild
  .build({
    stdin: { contents: entry, resolveDir: __dirname, sourcefile: 'vrp-plotly-entry.js' },
    outfile: path.join(out, 'plotly-vrp.min.js'),
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
    // Written last: what the app checks before serving the bundle (and its gzip copy) in place of the full one.
    const file = path.join(out, 'plotly-vrp.min.js');
    fs.writeFileSync(`${file}.gz`, zlib.gzipSync(fs.readFileSync(file), { level: 9 }));
    fs.writeFileSync(path.join(out, 'plotly-vrp.json'), JSON.stringify({ version, traces }) + '\n');
  })
  .catch(() => process.exit(1));
