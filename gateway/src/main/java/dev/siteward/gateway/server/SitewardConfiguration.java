package dev.siteward.gateway.server;

import io.micronaut.context.annotation.ConfigurationProperties;
import java.util.ArrayList;
import java.util.List;

/**
 * Gateway settings under {@code siteward.*} (application.yml, {@code -D} system properties, or environment variables
 * such as {@code SITEWARD_ENROLL_PORT}); the {@code siteward serve} options override them.
 */
@ConfigurationProperties(SitewardConfiguration.PREFIX)
public class SitewardConfiguration {

    public static final String PREFIX = "siteward";
    public static final int DEFAULT_ENROLL_PORT = 8443;
    public static final int DEFAULT_DEVICE_PORT = 9443;
    public static final double DEFAULT_ENROLL_RATE = 20;
    public static final int DEFAULT_ENROLL_BURST = 40;

    private String dataDir;
    private int enrollPort = DEFAULT_ENROLL_PORT;
    private int devicePort = DEFAULT_DEVICE_PORT;
    private String advertisedHost;
    private List<String> serverNames = new ArrayList<>();
    private double enrollRatePerSecond = DEFAULT_ENROLL_RATE;
    private int enrollBurst = DEFAULT_ENROLL_BURST;
    private String idevidAnchors;
    private String idevidIdFrom = "cn";
    private boolean idevidAllowUnregistered;

    /** The data directory (set by {@code siteward serve}). */
    public String getDataDir() {
        return dataDir;
    }

    public void setDataDir(String dataDir) {
        this.dataDir = dataDir;
    }

    /** Enrollment listener port (default 8443; the serve command turns 0 into a free port). */
    public int getEnrollPort() {
        return enrollPort;
    }

    public void setEnrollPort(int enrollPort) {
        this.enrollPort = enrollPort;
    }

    /** Device listener port (default 9443). */
    public int getDevicePort() {
        return devicePort;
    }

    public void setDevicePort(int devicePort) {
        this.devicePort = devicePort;
    }

    /** Host name devices use to reach the gateway (default: this host's name). */
    public String getAdvertisedHost() {
        return advertisedHost;
    }

    public void setAdvertisedHost(String advertisedHost) {
        this.advertisedHost = advertisedHost;
    }

    /** Extra DNS names and addresses for the server certificate. */
    public List<String> getServerNames() {
        return serverNames;
    }

    public void setServerNames(List<String> serverNames) {
        this.serverNames = serverNames;
    }

    /** Enrollment requests per second allowed per source address (sustained). */
    public double getEnrollRatePerSecond() {
        return enrollRatePerSecond;
    }

    public void setEnrollRatePerSecond(double enrollRatePerSecond) {
        this.enrollRatePerSecond = enrollRatePerSecond;
    }

    /** Enrollment requests per source address allowed in a burst. */
    public int getEnrollBurst() {
        return enrollBurst;
    }

    public void setEnrollBurst(int enrollBurst) {
        this.enrollBurst = enrollBurst;
    }

    /** PEM file of manufacturer CAs whose factory certificates (IDevID) may enroll; none by default. */
    public String getIdevidAnchors() {
        return idevidAnchors;
    }

    public void setIdevidAnchors(String idevidAnchors) {
        this.idevidAnchors = idevidAnchors;
    }

    /** Which subject attribute of a factory certificate is the device id: {@code cn} or {@code serial-number}. */
    public String getIdevidIdFrom() {
        return idevidIdFrom;
    }

    public void setIdevidIdFrom(String idevidIdFrom) {
        this.idevidIdFrom = idevidIdFrom;
    }

    /** Whether devices not pre-registered may enroll with a factory certificate (default false). */
    public boolean isIdevidAllowUnregistered() {
        return idevidAllowUnregistered;
    }

    public void setIdevidAllowUnregistered(boolean idevidAllowUnregistered) {
        this.idevidAllowUnregistered = idevidAllowUnregistered;
    }
}
