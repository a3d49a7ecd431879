package dev.siteward.gateway.mqtt;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;

class EmbeddedMqttBrokerTest {

    @Test
    void theGeneratedConfigurationHasOnlyATlsListenerThatRequiresClientCertificates() {
        String xml = EmbeddedMqttBroker.configXml(8883, "0.0.0.0", Path.of("/d/ks.p12"), Path.of("/d/ts.p12"), "pw",
                1024 * 1024);
        assertTrue(xml.contains("<client-authentication-mode>REQUIRED</client-authentication-mode>"), xml);
        assertFalse(xml.contains("<tcp-listener>"), "no plain listener");
        for (String s : List.of("<protocol>TLSv1.3</protocol>", "<protocol>TLSv1.2</protocol>",
                "<cipher-suite>TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256</cipher-suite>",
                "<max-packet-size>1048576</max-packet-size>", "<handshake-timeout>10000</handshake-timeout>",
                "<mode>in-memory</mode>", "<enabled>false</enabled>")) {
            assertTrue(xml.contains(s), s);
        }
        assertFalse(xml.contains("TLSv1.1") || xml.contains("CBC"), xml);
    }
}
