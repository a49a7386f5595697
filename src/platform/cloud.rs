//! Microsoft's clouds: each has its own sign-in and Graph hosts
//! (Graph docs `deployments.md`, "Microsoft Graph and Graph Explorer service
//! root endpoints"). A token from one cloud is worthless in another.

use std::fmt;

use serde::{Deserialize, Serialize};
use url::Url;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Cloud {
    /// Microsoft Entra ID, worldwide.
    #[default]
    Global,
    /// US Government L4 (GCC High).
    UsGov,
    /// US Government L5 (`DoD`).
    UsGovDod,
    /// China, operated by 21Vianet.
    China,
}

/// A cloud name [`Cloud::parse`] does not know; `Display` lists the known ones.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "\"{0}\" is not a Microsoft cloud the wizard knows. Use global, usgov (US Government L4), usgovdod (US Government L5, DoD) or china (21Vianet)."
)]
pub struct UnknownCloud(pub String);

/// One of the literal URLs above, parsed. They are constants the unit test
/// `every_cloud_has_parseable_urls` parses, so this cannot fail at run time.
#[allow(clippy::expect_used)] // a literal checked by a unit test; there is no infallible `Url` constructor
fn literal_url(literal: &'static str) -> Url {
    Url::parse(literal).expect("a literal URL of this module")
}

impl Cloud {
    pub const ALL: [Cloud; 4] = [Cloud::Global, Cloud::UsGov, Cloud::UsGovDod, Cloud::China];

    /// The name settings, the CLI and reports use.
    pub fn key(self) -> &'static str {
        match self {
            Cloud::Global => "global",
            Cloud::UsGov => "usgov",
            Cloud::UsGovDod => "usgovdod",
            Cloud::China => "china",
        }
    }

    /// Accepts the key and a few spellings admins use.
    pub fn parse(input: &str) -> Result<Cloud, UnknownCloud> {
        let normal: String = input
            .trim()
            .to_ascii_lowercase()
            .chars()
            .filter(char::is_ascii_alphanumeric)
            .collect();
        match normal.as_str() {
            "global" | "public" | "worldwide" | "commercial" | "azurecloud" => Ok(Cloud::Global),
            "usgov" | "usgovernment" | "gcchigh" | "l4" | "usgovl4" | "azureusgovernment" => {
                Ok(Cloud::UsGov)
            }
            "usgovdod" | "dod" | "l5" | "usgovl5" => Ok(Cloud::UsGovDod),
            "china" | "21vianet" | "azurechinacloud" | "mooncake" => Ok(Cloud::China),
            _ => Err(UnknownCloud(input.trim().to_string())),
        }
    }

    /// The Microsoft identity platform's host, as a base URL ending in `/`:
    /// `{login_url}{tenant}/oauth2/v2.0/…`.
    pub fn login_url(self) -> Url {
        let host = match self {
            Cloud::Global => "https://login.microsoftonline.com/",
            Cloud::UsGov | Cloud::UsGovDod => "https://login.microsoftonline.us/",
            Cloud::China => "https://login.chinacloudapi.cn/",
        };
        literal_url(host)
    }

    /// Graph v1.0 in this cloud.
    pub fn graph_url(self) -> Url {
        let base = match self {
            Cloud::Global => "https://graph.microsoft.com/v1.0",
            Cloud::UsGov => "https://graph.microsoft.us/v1.0",
            Cloud::UsGovDod => "https://dod-graph.microsoft.us/v1.0",
            Cloud::China => "https://microsoftgraph.chinacloudapi.cn/v1.0",
        };
        literal_url(base)
    }

    /// The application template that makes a non-gallery app here
    /// (`applicationtemplate-instantiate.md`, introduction): one id for the
    /// global service, one for "US government" (the page does not split L4
    /// from L5, so both use it) and one for 21Vianet.
    pub const fn non_gallery_template_id(self) -> &'static str {
        match self {
            Cloud::Global => "8adf8e6e-67b2-4cf2-a259-e3dc5476c621",
            Cloud::UsGov | Cloud::UsGovDod => "4602d0b4-76bb-404b-bca9-2652e1a39c6d",
            Cloud::China => "5a532e38-1581-4918-9658-008dc27c1d68",
        }
    }

    /// The cloud whose Graph host this is, if any (for a `--graph-url` alone).
    pub fn from_graph_url(url: &Url) -> Option<Cloud> {
        Cloud::ALL
            .into_iter()
            .find(|c| c.graph_url().host_str() == url.host_str())
    }
}

/// Wizard features that rest on Graph APIs whose national-cloud
/// availability is not universal (each API page's "National cloud
/// availability" table; docs/sign-in.md, "Clouds", lists what is unsure).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Feature {
    /// `POST …/jobs/{id}/validateCredentials` (step 5, Test Connection).
    TestConnection,
    /// `POST …/jobs/{id}/provisionOnDemand` (the after-start check).
    ProvisionOnDemand,
    /// `GET /auditLogs/provisioning` (the provisioning log view).
    ProvisioningLogs,
    /// `POST /applicationTemplates/{id}/instantiate` (creating the app).
    ApplicationTemplates,
}

impl Feature {
    pub const ALL: [Feature; 4] = [
        Feature::TestConnection,
        Feature::ProvisionOnDemand,
        Feature::ProvisioningLogs,
        Feature::ApplicationTemplates,
    ];
}

impl Cloud {
    /// Why `feature` is not available in this cloud, or `None` when it is
    /// documented as available (or nothing says otherwise).
    pub fn unsupported(self, feature: Feature) -> Option<&'static str> {
        match (self, feature) {
            (Cloud::China, Feature::TestConnection) => Some(
                "Microsoft does not document Test Connection (validateCredentials) for Microsoft Entra operated by 21Vianet: the wizard saves the credentials without testing them, and the first provisioning cycle shows whether they work.",
            ),
            (Cloud::China, Feature::ProvisionOnDemand) => Some(
                "Microsoft does not document on-demand provisioning (provisionOnDemand) for Microsoft Entra operated by 21Vianet: check the first provisioning cycle in the provisioning logs instead.",
            ),
            // provisioningobjectsummary-list.md: Global and US Government only.
            (Cloud::China, Feature::ProvisioningLogs) => Some(
                "Microsoft does not document the provisioning logs API (GET /auditLogs/provisioning) for Microsoft Entra operated by 21Vianet: open the app's Provisioning logs in the Entra admin center instead.",
            ),
            _ => None,
        }
    }
}

impl fmt::Display for Cloud {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Cloud::Global => "Global (worldwide)",
            Cloud::UsGov => "US Government L4 (GCC High)",
            Cloud::UsGovDod => "US Government L5 (DoD)",
            Cloud::China => "China (21Vianet)",
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_cloud_has_parseable_urls() {
        for c in Cloud::ALL {
            assert_eq!(c.login_url().scheme(), "https");
            assert_eq!(c.graph_url().scheme(), "https");
        }
    }

    #[test]
    fn hosts_follow_the_national_cloud_table() {
        assert_eq!(
            Cloud::UsGovDod.graph_url().as_str(),
            "https://dod-graph.microsoft.us/v1.0"
        );
        assert_eq!(
            Cloud::UsGovDod.login_url().as_str(),
            "https://login.microsoftonline.us/"
        );
        assert_eq!(
            Cloud::China.graph_url().host_str(),
            Some("microsoftgraph.chinacloudapi.cn")
        );
        assert_eq!(
            Cloud::China.login_url().host_str(),
            Some("login.chinacloudapi.cn")
        );
    }

    #[test]
    fn only_china_lacks_features_and_says_what_to_do_instead() {
        for f in Feature::ALL {
            assert_eq!(Cloud::Global.unsupported(f), None);
            assert_eq!(Cloud::UsGov.unsupported(f), None);
            assert_eq!(Cloud::UsGovDod.unsupported(f), None);
        }
        let test = Cloud::China.unsupported(Feature::TestConnection).unwrap();
        assert!(test.contains("21Vianet") && test.contains("first provisioning cycle"));
        assert!(
            Cloud::China
                .unsupported(Feature::ProvisionOnDemand)
                .is_some()
        );
        let logs = Cloud::China.unsupported(Feature::ProvisioningLogs).unwrap();
        assert!(logs.contains("/auditLogs/provisioning") && logs.contains("admin center"));
    }

    #[test]
    fn each_cloud_instantiates_its_own_non_gallery_template() {
        assert_eq!(
            Cloud::Global.non_gallery_template_id(),
            crate::services::graph::NON_GALLERY_TEMPLATE_ID
        );
        assert_eq!(
            Cloud::UsGov.non_gallery_template_id(),
            Cloud::UsGovDod.non_gallery_template_id()
        );
        assert_eq!(
            Cloud::China.non_gallery_template_id(),
            "5a532e38-1581-4918-9658-008dc27c1d68"
        );
        assert_ne!(
            Cloud::UsGov.non_gallery_template_id(),
            Cloud::Global.non_gallery_template_id()
        );
    }

    #[test]
    fn parse_accepts_keys_and_common_names_and_explains_the_rest() {
        for c in Cloud::ALL {
            assert_eq!(Cloud::parse(c.key()), Ok(c));
            assert_eq!(Cloud::from_graph_url(&c.graph_url()), Some(c));
        }
        assert_eq!(Cloud::parse("GCC High"), Ok(Cloud::UsGov));
        assert_eq!(Cloud::parse("21Vianet"), Ok(Cloud::China));
        let e = Cloud::parse("germany").unwrap_err().to_string();
        assert!(e.contains("\"germany\"") && e.contains("usgovdod"), "{e}");
    }
}
