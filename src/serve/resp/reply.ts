// What a Redis command answers, independent of the protocol version: the
// encoder (resp-writer.ts) writes it as RESP2, or as RESP3 after HELLO 3.
// A JavaScript value stands for the common kinds, a class for the rest:
//   Buffer            bulk string ($)           number / bigint  integer (:)
//   null              null bulk ($-1 / RESP3 _)  Reply[]          array (*)
//   SimpleString (+)  ErrorReply (-)  NullArray (*-1 / _)  MapReply (RESP2: flat array; RESP3 %)
//   SetReply (RESP2 array; RESP3 ~)  DoubleReply (RESP2 bulk; RESP3 ,)
//   BoolReply (RESP2 integer 1/0; RESP3 #)  VerbatimReply (RESP2 bulk; RESP3 =txt:)

export class SimpleString {
  constructor(readonly text: string) {}
}

/** An error reply; `message` starts with its prefix, as Redis's do: "ERR ...", "WRONGTYPE ...", "NOAUTH ...". */
export class ErrorReply {
  constructor(readonly message: string) {}
}

/** The null array: EXEC after a WATCHed key changed, a blocking pop that timed out. */
export class NullArray {
  private constructor() {}
  static readonly instance = new NullArray();
}

export class MapReply {
  constructor(readonly entries: ReadonlyArray<readonly [Reply, Reply]>) {}
}

export class SetReply {
  constructor(readonly items: readonly Reply[]) {}
}

export class DoubleReply {
  constructor(readonly value: number) {}
}

export class BoolReply {
  constructor(readonly value: boolean) {}
}

/** Text such as INFO's or CLIENT INFO's: a bulk string in RESP2, verbatim (=txt:) in RESP3. */
export class VerbatimReply {
  constructor(readonly text: string) {}
}

export type Reply =
  | Buffer
  | number
  | bigint
  | null
  | readonly Reply[]
  | SimpleString
  | ErrorReply
  | NullArray
  | MapReply
  | SetReply
  | DoubleReply
  | BoolReply
  | VerbatimReply;

export const OK = new SimpleString('OK');
