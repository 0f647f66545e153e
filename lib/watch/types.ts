import type { KubeObject } from '../api/meta.ts';

export type WatchEventType = 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK' | 'ERROR';

export interface WatchEvent<T = KubeObject> {
  type: WatchEventType;
  object: T;
}

/** An event as the hub keeps it: `prev` lets a filtered watcher see an object leaving its selection. */
export interface ChangeEvent<T = KubeObject> {
  type: 'ADDED' | 'MODIFIED' | 'DELETED';
  object: T;
  prev?: T;
  rv: number;
}

export type Unsubscribe = () => void;
