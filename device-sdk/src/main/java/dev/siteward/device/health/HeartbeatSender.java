package dev.siteward.device.health;

import dev.siteward.device.DeviceException;
import dev.siteward.device.DeviceHttpClient;
import java.net.http.HttpRequest;

/** Delivers one heartbeat body to the gateway. */
@FunctionalInterface
public interface HeartbeatSender {

    void send(byte[] json) throws DeviceException;

    /** {@code POST /v1/devices/heartbeat} on the device listener over the device's mTLS client. */
    static HeartbeatSender over(DeviceHttpClient http) {
        return json -> http.send(DeviceHttpClient.request(http.identity().state().deviceUrl(),
                        "/v1/devices/heartbeat").header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofByteArray(json)).build());
    }
}
