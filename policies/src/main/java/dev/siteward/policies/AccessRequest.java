package dev.siteward.policies;

import java.util.Objects;

/**
 * Asks whether {@code subject} may perform {@code action} on {@code resource} in {@code context}.
 *
 * @param subject  who asks
 * @param action   dotted action name, e.g. {@code valve.open}
 * @param resource what is acted on
 * @param context  site state (mode); the time comes from the clock
 */
public record AccessRequest(Subject subject, String action, Resource resource, RequestContext context) {

    /** Checks required fields; a {@code null} context means {@link RequestContext#NORMAL}. */
    public AccessRequest {
        Objects.requireNonNull(subject, "subject");
        Objects.requireNonNull(action, "action");
        Objects.requireNonNull(resource, "resource");
        context = context == null ? RequestContext.NORMAL : context;
    }
}
