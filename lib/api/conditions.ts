import * as v from 'valibot';

/** A condition as kpt writes it in a Kptfile's status and Porch shows it on a PackageRevision. */
export const KptConditionSchema = v.object({
  type: v.string(),
  status: v.string(),
  reason: v.optional(v.string()),
  message: v.optional(v.string()),
});

/** metav1.Condition, as a Repository's status carries it: kpt's, with a closed status, a transition time and a generation. */
export const ConditionSchema = v.object({
  ...KptConditionSchema.entries,
  status: v.picklist(['True', 'False', 'Unknown']),
  lastTransitionTime: v.optional(v.string()),
  observedGeneration: v.optional(v.number()),
});

export type Condition = v.InferOutput<typeof ConditionSchema>;
