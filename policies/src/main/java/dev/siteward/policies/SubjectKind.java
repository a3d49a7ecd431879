package dev.siteward.policies;

/** What kind of principal asks: an enrolled device, a named administrator, or an internal service. */
public enum SubjectKind {
    /** An enrolled device, authenticated by its device certificate. */
    DEVICE,
    /** A named administrator (a person). */
    ADMIN,
    /** An internal service of the site, e.g. a production scheduler. */
    SERVICE
}
