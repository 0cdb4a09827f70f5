import { describeValue, InvalidOptionError } from '../errors.js'
import { Call, type CallLayer, type CallSend } from './call.js'
import type { Layer, Send } from './pipeline.js'

/** The layers around `send`, outermost first, composed once: each wraps everything after it. */
export function compose(layers: readonly CallLayer[], send: CallSend): CallSend {
  return layers.reduceRight<CallSend>((next, layer) => layer(next), send)
}

/**
 * A user's layer among the client's own. It sees the public request and must pass on the one it
 * was given (changed in place if need be): the layers below read what the client keeps on it.
 */
export function userLayer(layer: Layer, index: number): CallLayer {
  const name = `createClient: layers[${index}]`
  return (next) => {
    const passOn: Send = (request) =>
      request instanceof Call
        ? next(request)
        : Promise.reject(
            new InvalidOptionError(
              `${name} called next() with a request it was not given: pass on the one it got (change its headers in place)`,
            ),
          )
    const send: unknown = layer(passOn)
    if (typeof send !== 'function') {
      throw new InvalidOptionError(
        `${name} must return a function (request) => answer, got ${describeValue(send)}`,
      )
    }
    return send as CallSend
  }
}
