// Errors a service maps to HTTP statuses: every request the embedder refuses or fails carries
// one of these kinds, so a handler needs no message parsing.

/** The embedder's queue is full (`maxQueue`): retry later. A service answers 503. */
export class OverloadError extends Error {
  readonly code = 'BYOL_OVERLOAD'
  constructor(readonly maxQueue: number) {
    super(`embedder overloaded: ${maxQueue} requests already queued (maxQueue)`)
    this.name = 'OverloadError'
  }
}

/** The input is not an image byol can decode, or raw pixels of the wrong shape. A service answers 400. */
export class InvalidImageError extends Error {
  readonly code = 'BYOL_INVALID_IMAGE'
  constructor(message: string) {
    super(message)
    this.name = 'InvalidImageError'
  }
}

/** `close()` was called: the embedder takes no new requests. A service answers 503 while it drains. */
export class EmbedderClosedError extends Error {
  readonly code = 'BYOL_EMBEDDER_CLOSED'
  constructor() {
    super('embedder is closed: it takes no new requests')
    this.name = 'EmbedderClosedError'
  }
}
