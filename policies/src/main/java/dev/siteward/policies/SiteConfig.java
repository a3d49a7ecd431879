package dev.siteward.policies;

import java.time.ZoneId;
import java.time.ZoneOffset;
import java.util.Objects;

/**
 * Site settings the gateway passes to the loader; a bundle's {@code site.timeZone} overrides {@link #timeZone()}.
 *
 * @param timeZone the zone in which time windows are read when the bundle does not name one
 */
public record SiteConfig(ZoneId timeZone) {

    /** The zone used when neither the gateway nor the bundle names one. */
    public static final ZoneId DEFAULT_TIME_ZONE = ZoneOffset.UTC;

    /** Site settings with {@link #DEFAULT_TIME_ZONE}. */
    public static final SiteConfig DEFAULTS = new SiteConfig(DEFAULT_TIME_ZONE);

    /** Checks that a time zone is given. */
    public SiteConfig {
        Objects.requireNonNull(timeZone, "timeZone");
    }
}
