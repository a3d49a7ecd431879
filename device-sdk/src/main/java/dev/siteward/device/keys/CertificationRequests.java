package dev.siteward.device.keys;

import dev.siteward.device.DeviceException;
import dev.siteward.device.DeviceException.Reason;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.Provider;
import java.security.Signature;
import java.security.interfaces.ECKey;

/**
 * Builds PKCS#10 certification requests (RFC 2986) for EC P-256 device keys, signed with ecdsa-with-SHA256
 * (RFC 5758 section 3.2) through whichever provider holds the key, so a PKCS#11 token key signs its own request
 * inside the token. The subject is a bare common name; the gateway decides the real subject and SANs.
 */
public final class CertificationRequests {

    private static final byte[] OID_CN = {0x06, 0x03, 0x55, 0x04, 0x03};
    private static final byte[] OID_ECDSA_SHA256 = {0x06, 0x08, 0x2a, (byte) 0x86, 0x48, (byte) 0xce, 0x3d, 0x04, 0x03,
        0x02};

    private CertificationRequests() {
    }

    /** The DER of a request for {@code keys}, subject {@code CN=commonName}. */
    public static byte[] create(KeyPair keys, String commonName, Provider provider) throws DeviceException {
        if (!(keys.getPublic() instanceof ECKey ec) || ec.getParams().getCurve().getField().getFieldSize() != 256) {
            throw new DeviceException(Reason.KEY_UNAVAILABLE, "device keys must be EC P-256");
        }
        // an empty subject when the device does not know its id yet: the gateway names it from the token
        byte[] name = commonName == null ? seq(new byte[0])
                : seq(tlv(0x31, seq(cat(OID_CN, tlv(0x0c, commonName.getBytes(StandardCharsets.UTF_8))))));
        byte[] spki = keys.getPublic().getEncoded();
        if (spki == null) {
            throw new DeviceException(Reason.KEY_UNAVAILABLE, "the public key cannot be encoded");
        }
        byte[] info = seq(cat(new byte[] {0x02, 0x01, 0x00}, name, spki, new byte[] {(byte) 0xa0, 0x00}));
        try {
            Signature s = provider == null ? Signature.getInstance("SHA256withECDSA")
                    : Signature.getInstance("SHA256withECDSA", provider);
            s.initSign(keys.getPrivate());
            s.update(info);
            byte[] sig = s.sign();
            byte[] bits = new byte[sig.length + 1];
            System.arraycopy(sig, 0, bits, 1, sig.length);
            return seq(cat(info, seq(OID_ECDSA_SHA256), tlv(0x03, bits)));
        } catch (GeneralSecurityException e) {
            throw new DeviceException(Reason.KEY_UNAVAILABLE, "cannot sign the certification request: "
                    + e.getMessage(), e);
        }
    }

    private static byte[] seq(byte[] content) {
        return tlv(0x30, content);
    }

    private static byte[] tlv(int tag, byte[] content) {
        ByteArrayOutputStream out = new ByteArrayOutputStream(content.length + 6);
        out.write(tag);
        int len = content.length;
        if (len < 0x80) {
            out.write(len);
        } else if (len < 0x100) {
            out.write(0x81);
            out.write(len);
        } else {
            out.write(0x82);
            out.write(len >> 8);
            out.write(len & 0xff);
        }
        out.writeBytes(content);
        return out.toByteArray();
    }

    private static byte[] cat(byte[]... parts) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (byte[] p : parts) {
            out.writeBytes(p);
        }
        return out.toByteArray();
    }
}
