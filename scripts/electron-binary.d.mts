export declare function findElectron(): { binary: string } | { binary: null; reason: string };
