package dev.siteward.policies;

/** What kind of principal asks: an enrolled device, a named administrator, or an internal service. */
public enum SubjectKind {
    DEVICE,
    ADMIN,
    SERVICE
}
