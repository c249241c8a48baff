export declare function stale(outputs: string[], sourceDirs: string[]): boolean;
export declare function ensureNodeBuilt(): Promise<void>;
export declare function ensureConsoleBuilt(): Promise<void>;
