"""Signing stage: the approved report document, as PDF, signed PAdES with the issuing body's key
(`sign.keys`: PKCS#12 or a PKCS#11 token) and validated before anything is sent (`sign.pades`)."""
