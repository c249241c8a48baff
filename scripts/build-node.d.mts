export declare const ROOT: string;
export declare const NODE_OUTDIR: string;
export declare const NODE_ENTRIES: Record<'cli' | 'server' | 'web', string>;
export declare const NODE_OUTPUTS: string[];
export declare function buildNode(): Promise<void>;
