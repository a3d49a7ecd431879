package dev.siteward.gateway.mqtt;

import io.micronaut.context.annotation.ConfigurationProperties;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * MQTT settings under {@code siteward.mqtt.*}. By default {@code siteward serve} runs the embedded broker on
 * {@value #DEFAULT_PORT}; {@code broker: external} turns it off for a site that runs its own Mosquitto
 * ({@code siteward mqtt mosquitto-config}), and the gateway then keeps that broker's CRL current and cuts revoked
 * clients off through {@code mosquitto-dir}.
 */
@ConfigurationProperties(MqttConfiguration.PREFIX)
public class MqttConfiguration {

    public static final String PREFIX = "siteward.mqtt";
    public static final int DEFAULT_PORT = 8883;
    public static final String DEFAULT_SERVICE_NAME = "gateway";
    public static final int DEFAULT_START_TIMEOUT_SECONDS = 60;
    public static final int DEFAULT_MAX_PACKET_SIZE = 1024 * 1024;

    /** Which broker serves the site's sensors. */
    public enum BrokerMode { EMBEDDED, EXTERNAL }

    private String broker = "embedded";
    private int port = DEFAULT_PORT;
    private String bindAddress = "0.0.0.0";
    private List<String> serviceNames = new ArrayList<>(List.of(DEFAULT_SERVICE_NAME));
    private int startTimeoutSeconds = DEFAULT_START_TIMEOUT_SECONDS;
    private int maxPacketSize = DEFAULT_MAX_PACKET_SIZE;
    private String advertisedUrl;
    private String mosquittoDir;
    private String mosquittoHost = "localhost";
    private int mosquittoPort = DEFAULT_PORT;
    private String mosquittoReloadCommand;

    /** {@code embedded} (default): the gateway runs the broker; {@code external}: a site broker such as Mosquitto. */
    public String getBroker() {
        return broker;
    }

    public void setBroker(String broker) {
        this.broker = broker;
    }

    /** The broker mode; an unknown value refuses start-up. */
    public BrokerMode brokerMode() {
        String b = broker == null ? "" : broker.strip().toLowerCase(Locale.ROOT);
        return switch (b) {
            case "embedded" -> BrokerMode.EMBEDDED;
            case "external" -> BrokerMode.EXTERNAL;
            default -> throw new IllegalArgumentException("siteward.mqtt.broker must be embedded or external, not '"
                    + broker + "'");
        };
    }

    /** TLS port of the embedded broker (default 8883; {@code siteward serve --mqtt-port}). */
    public int getPort() {
        return port;
    }

    public void setPort(int port) {
        this.port = port;
    }

    /** Address the embedded broker binds (default all interfaces). */
    public String getBindAddress() {
        return bindAddress;
    }

    public void setBindAddress(String bindAddress) {
        this.bindAddress = bindAddress;
    }

    /**
     * Names of the {@code service} certificates that get the gateway's MQTT rights (shared subscription to every
     * sensor's readings, publish under every sensor's prefix); default {@code gateway}.
     */
    public List<String> getServiceNames() {
        return serviceNames;
    }

    public void setServiceNames(List<String> serviceNames) {
        this.serviceNames = serviceNames;
    }

    /** How long start-up waits for the embedded broker before it fails (seconds). */
    public int getStartTimeoutSeconds() {
        return startTimeoutSeconds;
    }

    public void setStartTimeoutSeconds(int startTimeoutSeconds) {
        this.startTimeoutSeconds = startTimeoutSeconds;
    }

    /** Largest MQTT packet the embedded broker accepts, bytes (default 1 MiB); larger ones end the connection. */
    public int getMaxPacketSize() {
        return maxPacketSize;
    }

    public void setMaxPacketSize(int maxPacketSize) {
        this.maxPacketSize = maxPacketSize;
    }

    /** The broker URL advertised in {@code /.well-known/siteward} (default: the embedded broker's mqtts URL). */
    public String getAdvertisedUrl() {
        return advertisedUrl;
    }

    public void setAdvertisedUrl(String advertisedUrl) {
        this.advertisedUrl = advertisedUrl;
    }

    /** External mode: the directory {@code siteward mqtt mosquitto-config} wrote (CRL, pid file, control access). */
    public String getMosquittoDir() {
        return mosquittoDir;
    }

    public void setMosquittoDir(String mosquittoDir) {
        this.mosquittoDir = mosquittoDir;
    }

    /** External mode: host of the Mosquitto listener, for the gateway's control connection (default localhost). */
    public String getMosquittoHost() {
        return mosquittoHost;
    }

    public void setMosquittoHost(String mosquittoHost) {
        this.mosquittoHost = mosquittoHost;
    }

    /** External mode: port of the Mosquitto TLS listener (default 8883). */
    public int getMosquittoPort() {
        return mosquittoPort;
    }

    public void setMosquittoPort(int mosquittoPort) {
        this.mosquittoPort = mosquittoPort;
    }

    /**
     * External mode: shell command that makes Mosquitto re-read its CRL (e.g. {@code systemctl reload mosquitto});
     * default: SIGHUP to the pid in {@code <mosquitto-dir>/mosquitto.pid}.
     */
    public String getMosquittoReloadCommand() {
        return mosquittoReloadCommand;
    }

    public void setMosquittoReloadCommand(String mosquittoReloadCommand) {
        this.mosquittoReloadCommand = mosquittoReloadCommand;
    }
}
