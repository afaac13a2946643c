"""Digital signatures (chữ ký số) on the frozen record: the chair, then the secretary, then
the council's seal sign a frozen version's PDF, each an incremental PAdES signature with a
visible block where the form of Decree 30 puts it and a QR code that opens /verify/{code}.

keys.py finds the signer's key (the seal's PKCS#12 file, a person's PKCS#11 token) and
refuses a certificate that is expired, not yet valid or revoked; sign.py puts the signature
on the PDF; api.py holds the order, the storage and the routes.
"""
