package dev.siteward.device.models;

/**
 * What a device tells the gateway about one model (docs/model-releases.md): {@code result} is {@code installed},
 * {@code failed} (transport), {@code refused} (security failure, {@code code} is the refusal code), {@code fallback}
 * (installed but failed its health check; the previous slot is back) or {@code healthy}.
 */
public record ModelReport(String model, Long version, String result, String code, String message, String snapshot) {

    public static final String INSTALLED = "installed";
    public static final String FAILED = "failed";
    public static final String REFUSED = "refused";
    public static final String FALLBACK = "fallback";
    public static final String HEALTHY = "healthy";
}
