// The part of dcmjs (no types of its own) the SR writer uses.
declare module 'dcmjs' {
  type Naturalized = Record<string, unknown>;
  const dcmjs: {
    data: {
      DicomMetaDictionary: { denaturalizeDataset(ds: Naturalized): Record<string, unknown> };
      DicomDict: new (meta: Record<string, unknown>) => { dict: Record<string, unknown>; write(): ArrayBuffer };
    };
    log: { setLevel(level: string): void };
  };
  export default dcmjs;
}
