package dev.siteward.policies.check;

/** How bad a finding is: an error makes the bundle unusable, a warning points at a likely mistake. */
public enum Severity {
    ERROR,
    WARNING
}
