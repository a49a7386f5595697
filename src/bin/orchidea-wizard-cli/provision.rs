//! `provision-user`: one user provisioned now, each stage shown.

use orchidea_wizard::engine::{self, Engine, report};
use orchidea_wizard::services::graph::DirectoryUser;
use orchidea_wizard::setup::Choices;

use crate::args::ProvisionUserArgs;
use crate::error::CliError;
use crate::render::write_report;
use crate::target::{OrchideaChoice, connect};

/// The one user `query` names: an exact id, mail or UPN wins; otherwise the
/// search must find exactly one.
fn pick_user(query: &str, found: Vec<DirectoryUser>) -> Result<DirectoryUser, CliError> {
    let q = query.trim();
    let exact = |u: &DirectoryUser| {
        u.id.eq_ignore_ascii_case(q)
            || u.mail.as_deref().is_some_and(|m| m.eq_ignore_ascii_case(q))
            || u.user_principal_name
                .as_deref()
                .is_some_and(|m| m.eq_ignore_ascii_case(q))
    };
    if let Some(u) = found.iter().find(|u| exact(u)) {
        return Ok(u.clone());
    }
    match found.len() {
        0 => Err(CliError::NoUser(q.to_string())),
        1 => Ok(found.into_iter().next().unwrap_or_default()),
        count => {
            let names: Vec<String> = found
                .iter()
                .take(10)
                .map(|u| {
                    format!(
                        "{} <{}>",
                        u.display_name.as_deref().unwrap_or("?"),
                        u.user_principal_name.as_deref().unwrap_or("?")
                    )
                })
                .collect();
            Err(CliError::ManyUsers {
                count,
                query: q.to_string(),
                names: names.join(", "),
            })
        }
    }
}

pub async fn provision_user(args: ProvisionUserArgs) -> Result<bool, CliError> {
    let (sandbox, cfg) =
        connect(&args.target, OrchideaChoice::NotNeeded, Choices::default()).await?;
    let scope = cfg.scope;
    let mode = args.target.mode();
    let engine = Engine::new(cfg);
    let result = async {
        let found = engine.find_users(&args.user).await?;
        let user = pick_user(&args.user, found)?;
        println!(
            "Provisioning {} <{}> now…",
            user.display_name.as_deref().unwrap_or("?"),
            user.user_principal_name.as_deref().unwrap_or("?")
        );
        let r = engine.provision_user(&user).await?;
        for step in &r.steps {
            println!("  {}", engine::stage_sentence(step));
        }
        let why = match (&r.error_code, &r.error_message) {
            (Some(c), Some(m)) => format!(" — {m} ({c})"),
            (Some(c), None) => format!(" — {c}"),
            (None, Some(m)) => format!(" — {m}"),
            (None, None) => String::new(),
        };
        println!("Result: {}{why}", r.result);
        Ok::<bool, CliError>(!r.result.eq_ignore_ascii_case("failure"))
    }
    .await;
    if let Some(path) = &args.report {
        write_report(&report::build(&engine.facts().await, scope, mode), path)?;
    }
    if let Some(sandbox) = sandbox {
        sandbox.shutdown().await;
    }
    result
}

#[cfg(test)]
mod tests {
    use super::*;

    fn user(id: &str, name: &str, upn: &str) -> DirectoryUser {
        DirectoryUser {
            id: id.into(),
            display_name: Some(name.into()),
            user_principal_name: Some(upn.into()),
            ..DirectoryUser::default()
        }
    }

    #[test]
    fn an_exact_principal_name_wins_over_other_matches() {
        let found = vec![
            user("1", "Adele Vance", "adele@contoso.test"),
            user("2", "Adele Vancouver", "adelev@contoso.test"),
        ];
        let picked = pick_user(" ADELEV@contoso.test ", found).unwrap();
        assert_eq!(picked.id, "2");
    }

    #[test]
    fn one_match_is_taken_and_none_or_several_are_refused_in_words() {
        let one = vec![user("1", "Adele Vance", "adele@contoso.test")];
        assert_eq!(pick_user("Ad", one).unwrap().id, "1");
        assert_eq!(
            pick_user("Zed", Vec::new()).unwrap_err().to_string(),
            "No user's name, mail or user principal name starts with \"Zed\"."
        );
        let two = vec![
            user("1", "Adele Vance", "adele@contoso.test"),
            user("2", "Adam Smith", "adam@contoso.test"),
        ];
        assert_eq!(
            pick_user("Ad", two).unwrap_err().to_string(),
            "2 users match \"Ad\": Adele Vance <adele@contoso.test>, Adam Smith <adam@contoso.test>. \
             Give the mail or user principal name of one."
        );
    }
}
