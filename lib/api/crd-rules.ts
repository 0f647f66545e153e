import { REPOSITORY_IMMUTABLE_FIELDS } from './repository.ts';

// In a cluster the config.porch.kpt.dev objects are written through kube-apiserver, not through
// porch-ts, so what lib/strategy/repository.ts checks on the dev server has to be said in the CRD:
// as CEL rules (x-kubernetes-validations) and schema defaults. The dev server keeps enforcing the
// same rules in TypeScript; tests/unit/crd.test.ts evaluates these against the same cases.

export interface ValidationRule {
  rule: string;
  message: string;
  /** Where the rule is reported, as kube-apiserver shows it (JSONPath relative to the rule's node). */
  fieldPath?: string;
}

export interface CrdOverlay {
  /** Rules on the root of openAPIV3Schema. */
  rules: ValidationRule[];
  /** Defaults, by the path of the field below the root. */
  defaults: { path: readonly string[]; value: string | boolean | number }[];
}

/** `self.spec.git.repo` for ['spec', 'git', 'repo'] with `has()` guards for every step on the way. */
function presence(root: string, path: readonly string[]): string {
  return path.map((_, i) => `has(${[root, ...path.slice(0, i + 1)].join('.')})`).join(' && ');
}

/**
 * `self.spec.x == oldSelf.spec.x` once the field is set. Written on the root (not on the field as
 * plain `self == oldSelf`) because a field-level transition rule does not run when the new object
 * drops the field, and removing an immutable field must be refused too.
 */
export function immutableRule(path: readonly string[]): ValidationRule {
  const dotted = path.join('.');
  const was = presence('oldSelf', path);
  const is = presence('self', path);
  return {
    rule: `!(${was}) || (${is} && self.${dotted} == oldSelf.${dotted})`,
    message: `${dotted} is immutable`,
    fieldPath: `.${dotted}`,
  };
}

export const REPOSITORY_OVERLAY: CrdOverlay = {
  rules: [
    // metadata.name is a DNS-1123 label, as lib/strategy/repository.ts requires (Porch too). No
    // fieldPath: kube-apiserver only accepts paths the schema declares, and metadata declares none.
    {
      rule: "self.metadata.name.matches('^[a-z0-9]([-a-z0-9]*[a-z0-9])?$')",
      message: 'metadata.name must be a lowercase RFC 1123 label (alphanumerics and -, starting and ending with an alphanumeric)',
    },
    { rule: 'size(self.metadata.name) <= 63', message: 'metadata.name must be no more than 63 characters' },
    // The dev server infers a missing type from git/oci; either way the matching details are needed.
    {
      rule: 'has(self.spec) && (has(self.spec.git) || has(self.spec.oci))',
      message: 'spec.git (or spec.oci for an OCI repository) is required',
      fieldPath: '.spec',
    },
    {
      rule: "!has(self.spec) || !has(self.spec.type) || self.spec.type != 'git' || has(self.spec.git)",
      message: 'spec.git is required when spec.type is git',
      fieldPath: '.spec.git',
    },
    {
      rule: "!has(self.spec) || !has(self.spec.type) || self.spec.type != 'oci' || has(self.spec.oci)",
      message: 'spec.oci is required when spec.type is oci',
      fieldPath: '.spec.oci',
    },
    ...REPOSITORY_IMMUTABLE_FIELDS.map((keys) => immutableRule(['spec', ...keys])),
  ],
  // What the dev server's prepareForCreate fills in and kube-apiserver can express.
  defaults: [
    { path: ['spec', 'content'], value: 'Package' },
    { path: ['spec', 'git', 'branch'], value: 'main' },
  ],
};
