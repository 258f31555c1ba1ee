// Loads the compiled addon. scripts/build.js puts it in build/Release; a
// DDATA_NODE_ADDON path overrides that (tests of another build).
'use strict';

const path = require('path');

const file = process.env.DDATA_NODE_ADDON || path.join(__dirname, '..', 'build', 'Release', 'ddata_node.node');
module.exports = require(file);
