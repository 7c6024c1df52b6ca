// Runs PGlite and its socket server in a worker thread: PGlite executes queries in the
// calling thread, so on the main thread every query would freeze the event loop.
// Plain CommonJS on purpose: this file runs in Node as it is, outside Jest's transforms.
const { parentPort, workerData } = require('node:worker_threads');
const { PGlite } = require('@electric-sql/pglite');
const { PGLiteSocketServer } = require('@electric-sql/pglite-socket');

async function main() {
  const db = await PGlite.create(workerData.dataDir ?? undefined);
  await db.waitReady;
  const server = new PGLiteSocketServer({
    db,
    host: '127.0.0.1',
    port: 0,
    maxConnections: workerData.maxConnections,
  });
  await server.start();
  parentPort.postMessage({ type: 'ready', conn: server.getServerConn() });

  parentPort.on('message', async (message) => {
    if (message !== 'stop') return;
    try {
      await server.stop();
      await db.close();
    } finally {
      parentPort.postMessage({ type: 'stopped' });
    }
  });
}

main().catch((error) => {
  parentPort.postMessage({ type: 'error', message: error && error.stack ? error.stack : String(error) });
});
