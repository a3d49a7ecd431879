package dev.siteward.gateway.mqtt;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;

class MosquittoFilesTest {

    @Test
    void theAclGivesEachDeviceItsPrefixAndOnlyTheServicesReadEveryReading() {
        String acl = MosquittoFiles.acl(List.of("gateway"));
        assertTrue(acl.contains("\nuser gateway\ntopic read siteward/sensors/+/readings\n"
                + "topic write siteward/sensors/+/#\ntopic readwrite $CONTROL/dynamic-security/#\n"), acl);
        assertTrue(acl.endsWith("pattern readwrite siteward/sensors/%u/#\n"), acl);
        assertFalse(acl.contains("topic readwrite #"), acl);
    }

    @Test
    void theConfigurationRequiresCertificatesTakesTheCnAsUsernameAndChecksTheCrl() {
        String conf = MosquittoFiles.conf(Path.of("/etc/mosquitto/siteward"), new MosquittoFiles.Options(8883, null,
                List.of("localhost"), "mosquitto", MosquittoFiles.DEFAULT_PLUGIN, List.of("gateway")));
        for (String line : List.of("listener 8883\n", "require_certificate true\n", "use_identity_as_username true\n",
                "crlfile /etc/mosquitto/siteward/crl.pem\n", "acl_file /etc/mosquitto/siteward/acl\n",
                "tls_version tlsv1.2\n", "allow_anonymous false\n", "user mosquitto\n", "set_tcp_nodelay true\n",
                "pid_file /etc/mosquitto/siteward/mosquitto.pid\n",
                "plugin_opt_config_file /etc/mosquitto/siteward/dynamic-security.json\n")) {
            assertTrue(conf.contains(line), line + " in\n" + conf);
        }
        assertFalse(conf.contains("CBC"), "AEAD suites only");
    }
}
