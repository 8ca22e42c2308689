#!/bin/bash
# Revocation data for the pdfcheck kit's test PKI (pki/mkpki.sh), made with the openssl CLI only:
#   ltv_pki.sh PKI_DIR init PORT         re-issues the seal and TSA certificates (same keys) with
#                                        CRL Distribution Points and Authority Information Access
#                                        (OCSP) at http://127.0.0.1:PORT/ (ltv_responder.py), so
#                                        validators look for OCSP data; an OCSP
#                                        responder certificate issued by the issuing CA
#                                        (id-kp-OCSPSigning, ocsp-nocheck); the CA indexes
#   ltv_pki.sh PKI_DIR revoke CERT.pem WHEN [REASON]
#                                        records CERT (issued by the issuing CA) as revoked at WHEN
#                                        (YYMMDDHHMMSSZ) in the issuing CA's index
#   ltv_pki.sh PKI_DIR ocsp CERT.pem OUT.der
#                                        an OCSP response (openssl ocsp -index ... -respout) for
#                                        CERT, signed by the delegated responder
#   ltv_pki.sh PKI_DIR crl root|int OUT.der
#                                        the root's or the issuing CA's CRL (openssl ca -gencrl)
set -euo pipefail
P="$(cd "${1:?PKI_DIR}" && pwd)"; shift
cd "$P"
conf() { # $1 = CA name (root|int)
  cat > "ca_$1.cnf" <<CNF
[ca]
default_ca = ca_$1
[ca_$1]
database = $P/index_$1.txt
crlnumber = $P/crlnumber_$1
default_md = sha256
default_crl_days = 30
crl_extensions = crl_ext
[crl_ext]
authorityKeyIdentifier = keyid:always
[revinfo]
crlDistributionPoints = URI:http://127.0.0.1:${PORT:-0}/int.crl
authorityInfoAccess = OCSP;URI:http://127.0.0.1:${PORT:-0}/ocsp, caIssuers;URI:http://127.0.0.1:${PORT:-0}/int.crt
[ee_ext]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature, nonRepudiation
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always
crlDistributionPoints = URI:http://127.0.0.1:${PORT:-0}/int.crl
authorityInfoAccess = OCSP;URI:http://127.0.0.1:${PORT:-0}/ocsp, caIssuers;URI:http://127.0.0.1:${PORT:-0}/int.crt
[tsa_ext]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature
extendedKeyUsage = critical, timeStamping
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always
crlDistributionPoints = URI:http://127.0.0.1:${PORT:-0}/int.crl
authorityInfoAccess = OCSP;URI:http://127.0.0.1:${PORT:-0}/ocsp, caIssuers;URI:http://127.0.0.1:${PORT:-0}/int.crt
[ocsp_ext]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature
extendedKeyUsage = critical, OCSPSigning
noCheck = ignored
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always
CNF
}
entry() { # $1 cert -> "V<TAB>expiry<TAB><TAB>serial<TAB>unknown<TAB>subject"
  local exp serial subj
  exp=$(date -u -d "$(openssl x509 -in "$1" -noout -enddate | cut -d= -f2)" +%y%m%d%H%M%SZ)
  serial=$(openssl x509 -in "$1" -noout -serial | cut -d= -f2)
  subj=$(openssl x509 -in "$1" -noout -subject -nameopt compat | sed 's/^subject=//')
  printf 'V\t%s\t\t%s\tunknown\t%s\n' "$exp" "$serial" "$subj"
}
case "${1:?command}" in
  init)
    PORT="${2:?init PORT}"
    conf root; conf int
    for c in seal_rsa:ee_ext seal_ec:ee_ext tsa:tsa_ext; do
      n=${c%%:*}; e=${c#*:}
      openssl x509 -x509toreq -in $n.pem -signkey $n.key -out $n.csr 2>/dev/null
      openssl x509 -req -in $n.csr -CA int.pem -CAkey int.key -CAcreateserial -out $n.pem.new -days 825 \
        -sha256 -extfile ca_int.cnf -extensions $e 2>/dev/null
      mv $n.pem.new $n.pem; rm -f $n.csr
    done
    cat tsa.pem int.pem > tsa_chain.pem
    : > index_root.txt; : > index_int.txt; echo 01 > crlnumber_root; echo 01 > crlnumber_int
    entry int.pem >> index_root.txt
    for c in seal_rsa seal_ec tsa; do entry $c.pem >> index_int.txt; done
    openssl req -new -newkey rsa:2048 -nodes -keyout ocsp.key -out ocsp.csr \
      -subj "/C=BE/O=PDFCheck Test PKI/CN=PDFCheck Test OCSP Responder" 2>/dev/null
    openssl x509 -req -in ocsp.csr -CA int.pem -CAkey int.key -CAcreateserial -out ocsp.pem -days 825 \
      -sha256 -extfile ca_int.cnf -extensions ocsp_ext 2>/dev/null
    rm -f ocsp.csr ;;
  revoke)
    serial=$(openssl x509 -in "$2" -noout -serial | cut -d= -f2)
    rev="$3${4:+,$4}"
    awk -F'\t' -v OFS='\t' -v s="$serial" -v r="$rev" '$4==s { $1="R"; $3=r } { print }' index_int.txt > index_int.tmp
    mv index_int.tmp index_int.txt ;;
  ocsp)
    openssl ocsp -issuer int.pem -cert "$2" -reqout "$3.req" -no_nonce >/dev/null 2>&1
    openssl ocsp -index index_int.txt -CA int.pem -rsigner ocsp.pem -rkey ocsp.key -rmd sha256 \
      -reqin "$3.req" -respout "$3" -ndays 7 >/dev/null 2>&1
    rm -f "$3.req" ;;
  crl)
    case "$2" in root) k=root;; int) k=int;; *) echo "crl root|int" >&2; exit 2;; esac
    # openssl ca rewrites the CRL number file: one at a time (tests and the responder run in
    # parallel), and the configuration of this folder (a copied PKI has its own files)
    exec 9> .crl.lock; flock 9
    conf $k
    openssl ca -gencrl -config ca_$k.cnf -keyfile $k.key -cert $k.pem -out "$3.pem" 2>/dev/null
    openssl crl -in "$3.pem" -outform DER -out "$3"; rm -f "$3.pem" ;;
  *) echo "unknown command $1" >&2; exit 2 ;;
esac
