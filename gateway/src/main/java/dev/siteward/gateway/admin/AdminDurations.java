package dev.siteward.gateway.admin;

import dev.siteward.gateway.GatewayException;
import dev.siteward.gateway.GatewayException.Reason;
import dev.siteward.gateway.cli.DurationText;
import java.time.Duration;

/** Durations in admin API bodies use the CLI's form ({@code 15m}, {@code 30d}). */
final class AdminDurations {

    private AdminDurations() {
    }

    static Duration parse(String text) throws GatewayException {
        try {
            return DurationText.parse(text);
        } catch (IllegalArgumentException e) {
            throw new GatewayException(Reason.BAD_REQUEST, e.getMessage());
        }
    }
}
