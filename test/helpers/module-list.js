'use strict';
/**
 * Loaded with `node --require` into a server under test: when the process exits, writes the files it loaded through
 * `require` (one per line) to the file named by MODULE_LIST_FILE.
 */
const fs = require('node:fs');

const target = process.env.MODULE_LIST_FILE;
if (target !== undefined) {
  process.on('exit', () => fs.writeFileSync(target, Object.keys(require.cache).join('\n')));
}
