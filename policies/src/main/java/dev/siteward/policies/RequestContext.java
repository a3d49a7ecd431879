package dev.siteward.policies;

/**
 * Site state at the time of a request; the time itself comes from the injected clock.
 *
 * @param siteMode the site mode, e.g. {@code normal} or {@code maintenance}; {@code null} means {@code normal}
 */
public record RequestContext(String siteMode) {

    /** The mode assumed when none is given. */
    public static final String DEFAULT_SITE_MODE = "normal";

    /** A context in {@link #DEFAULT_SITE_MODE}. */
    public static final RequestContext NORMAL = new RequestContext(DEFAULT_SITE_MODE);

    /** A {@code null} mode means {@link #DEFAULT_SITE_MODE}. */
    public RequestContext {
        siteMode = siteMode == null ? DEFAULT_SITE_MODE : siteMode;
    }
}
