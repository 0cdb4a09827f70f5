import { createServer, type Server, type Socket } from 'node:net'
import type { Clock, TimerHandle } from '../limit/clock.js'

/**
 * The listener for the `connectDelay` option: a plain TCP server that accepts every connection
 * paused, holds it `delayMs`, then hands it to `server` (which does not listen itself) with
 * `server.emit('connection', socket)`, as node:cluster-style socket handoff does. Nothing is read
 * from the socket meanwhile: a TLS client's ClientHello waits, so its handshake takes the delay as
 * against a far API; a plain-HTTP client is connected at once and its first request waits. The
 * clock is re-read when the timer fires (a timer may fire a fraction early), so no socket is ever
 * handed over before `delayMs` has passed since it was accepted.
 */
export function holdConnections(server: Server, delayMs: number, clock: Clock): Server {
  return createServer({ pauseOnConnect: true }, (socket: Socket) => {
    const accepted = clock.now()
    let timer: TimerHandle
    // A client that gives up during the hold must not crash the server; once handed over, the
    // server's own handlers deal with errors.
    const drop = () => socket.destroy()
    const cancel = () => clock.clearTimer(timer)
    const release = () => {
      const left = accepted + delayMs - clock.now()
      if (left > 0) {
        timer = clock.setTimer(release, left)
        return
      }
      socket.off('error', drop).off('close', cancel)
      server.emit('connection', socket)
      socket.resume()
    }
    socket.on('error', drop).once('close', cancel)
    timer = clock.setTimer(release, delayMs)
  })
}
