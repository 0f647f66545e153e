/** Who a request runs as, as authenticators establish it and authorizers and commits read it. */
export interface UserInfo {
  username: string;
  uid?: string;
  groups: string[];
  extra?: Record<string, string[]>;
}
