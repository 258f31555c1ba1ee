// Events without hidden threads: the library queues events and signals a
// pollable fd; an FdWatcher (libuv's uv_poll on Node's own loop) calls
// back on the JS thread, and the queue is drained with ordinary calls.
'use strict';

const { EventEmitter } = require('events');
const native = require('./native');

// An EventEmitter fed from `fd`: each time it is readable, `drain()` is
// called and must return the queued events as [eventName, payload] pairs
// (it also clears the fd's readiness, or polling would spin).
class FdEventEmitter extends EventEmitter {
  constructor(fd, drain) {
    super();
    this._drain = drain;
    this._watcher = new native.FdWatcher(fd, (status) => this._onReadable(status));
    // Keep the process alive only while someone listens.
    this.on('newListener', (name) => {
      if (this._watcher && name !== 'newListener' && name !== 'removeListener') this._watcher.ref(true);
    });
    this.on('removeListener', () => {
      if (this._watcher && !this._hasUserListeners()) this._watcher.ref(false);
    });
  }

  _hasUserListeners() {
    return this.eventNames().some((n) => n !== 'newListener' && n !== 'removeListener');
  }

  _onReadable(status) {
    if (status < 0) {
      this.emit('error', new Error('ddata: polling the event fd failed (' + status + ')'));
      return;
    }
    for (const [name, payload] of this._drain()) this.emit(name, payload);
  }

  close() {
    if (this._watcher) {
      this._watcher.close();
      this._watcher = null;
    }
  }
}

module.exports = { FdEventEmitter };
