import { SELF_SUBJECT_REVIEWS } from '../lib/api/reviews.ts';
import { reviewEndpoint } from './http/review-endpoint.ts';

/** POST selfsubjectreviews (`kubectl auth whoami`): who the authenticator took the caller for. */
const createSelfSubjectReview = reviewEndpoint(SELF_SUBJECT_REVIEWS, (_body, { username, uid, groups, extra }) => ({
  status: { userInfo: { username, ...(uid ? { uid } : {}), groups, ...(extra && Object.keys(extra).length ? { extra } : {}) } },
}));
export default createSelfSubjectReview;
