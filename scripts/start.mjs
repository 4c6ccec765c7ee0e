// `npm start`: runs the local stack. The origin cluster, edge and demo app arrive with
// their issues; until then this says so instead of pretending.
console.log('Neuroplex: the local stack (origin cluster, edge worker, demo app) is not built yet.');
console.log('Today the core library is ready: see README.md, and run `npm test`.');
