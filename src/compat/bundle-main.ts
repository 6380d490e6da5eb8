// Entry of the single-file bundle (scripts/dev/bundle.js): the Node 10 fill-ins
// first, then the CLI, in that order (ES imports run in order).
import './node10';
import '../cli/main';
