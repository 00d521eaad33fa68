/**
 * Where the engine keeps its small state documents when they must outlive this process and
 * be seen by another one: silences and acks, the alert memory (each open alert's state and
 * what its group was told, the noise bands). A single node keeps them as files in its data
 * dir (the default, no port needed); a cluster passes a shared implementation (Redis, in the
 * backend's cluster/), so the node that takes the evaluation over after a failover starts
 * from the same state. A shared implementation refuses the writes of a node that no longer
 * holds the evaluator lease (fencing): `write` then rejects and nothing is overwritten.
 */
export type StateDocumentName = 'silences' | 'alert-memory';

export interface StateDocuments {
  /** The document as last written, or undefined when there is none yet. */
  read(name: StateDocumentName): Promise<unknown>;
  /** Replaces the document (its JSON text); resolves once it is durable where the other nodes read it. */
  write(name: StateDocumentName, json: string): Promise<void>;
}

/**
 * Writes one document at a time, in call order, and remembers the last failure until the
 * next `flushed()` reports it. Only the newest pending version is written when writes pile up.
 */
export class DocumentWriter {
  private chain: Promise<void> = Promise.resolve();
  private failure: unknown = null;
  private next = '';
  private queued = false;

  constructor(
    private readonly write: (json: string) => Promise<void>,
    private readonly onError: (err: unknown) => void,
  ) {}

  /** Serialises `doc` now (later changes to it are not written) and writes it soon. */
  save(doc: unknown): void {
    this.next = JSON.stringify(doc);
    if (this.queued) return;
    this.queued = true;
    this.chain = this.chain.then(async () => {
      this.queued = false;
      const json = this.next;
      try {
        await this.write(json);
      } catch (err) {
        this.failure = err;
        this.onError(err);
      }
    });
  }

  /** Resolves when every save so far is written; rejects with the first failure since the last call. */
  async flushed(): Promise<void> {
    await this.chain;
    const err = this.failure;
    this.failure = null;
    if (err) throw err;
  }
}
