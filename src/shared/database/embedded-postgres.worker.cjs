// Runs PGlite and its socket server in a worker thread: PGlite executes queries in the
// calling thread, so on the main thread every query would freeze the event loop.
// Plain CommonJS on purpose: this file runs in Node as it is, outside Jest's transforms.
const { parentPort, workerData } = require('node:worker_threads');
const { PGlite } = require('@electric-sql/pglite');
const { PGLiteSocketServer } = require('@electric-sql/pglite-socket');

// Extended-protocol messages that leave a request unfinished until the client's Sync.
const MID_REQUEST = new Set([
  0x50 /* Parse */, 0x42 /* Bind */, 0x44 /* Describe */, 0x45 /* Execute */, 0x43 /* Close */,
  0x48 /* Flush */,
]);

/**
 * Replaces pglite-socket's query queue. Its queue keeps one connection's messages
 * together only inside a transaction; outside one, the Parse/Bind/Execute/Sync of two
 * connections interleave on PGlite's single session and one connection's unnamed
 * statement replaces the other's ("unnamed prepared statement does not exist"). This
 * queue also keeps a connection until its request is complete (Sync or simple Query).
 */
class SerialQueue {
  constructor(db) {
    this.db = db;
    this.queue = [];
    this.processing = false;
    this.owner = null;
    this.ownerMidRequest = false;
  }

  enqueue(handlerId, message, onData) {
    return new Promise((resolve, reject) => {
      this.queue.push({ handlerId, message, onData, resolve, reject });
      void this.process();
    });
  }

  next() {
    const sticky = this.owner !== null && (this.ownerMidRequest || this.db.isInTransaction());
    if (!sticky) return this.queue.shift();
    const index = this.queue.findIndex((item) => item.handlerId === this.owner);
    return index === -1 ? undefined : this.queue.splice(index, 1)[0];
  }

  async process() {
    if (this.processing) return;
    this.processing = true;
    try {
      for (let item = this.next(); item; item = this.next()) {
        let bytes = 0;
        try {
          await this.db.runExclusive(() =>
            this.db.execProtocolRawStream(item.message, {
              onRawData: (data) => {
                bytes += data.length;
                item.onData(data);
              },
            }),
          );
          item.resolve(bytes);
        } catch (error) {
          item.reject(error);
        }
        this.owner = item.handlerId;
        this.ownerMidRequest = MID_REQUEST.has(item.message[0]);
      }
    } finally {
      this.processing = false;
    }
  }

  getQueueLength() {
    return this.queue.length;
  }

  clearQueueForHandler(handlerId) {
    this.queue = this.queue.filter((item) => {
      if (item.handlerId !== handlerId) return true;
      item.reject(new Error('Handler disconnected'));
      return false;
    });
  }

  async clearTransactionIfNeeded(handlerId) {
    if (this.owner !== handlerId) return;
    if (this.db.isInTransaction()) await this.db.exec('ROLLBACK');
    this.owner = null;
    this.ownerMidRequest = false;
    void this.process();
  }
}

async function main() {
  const db = await PGlite.create(workerData.dataDir ?? undefined);
  await db.waitReady;
  const server = new PGLiteSocketServer({
    db,
    host: '127.0.0.1',
    port: 0,
    maxConnections: workerData.maxConnections,
  });
  server.queryQueue = new SerialQueue(db);
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
  parentPort.postMessage({
    type: 'error',
    message: error && error.stack ? error.stack : String(error),
  });
});
